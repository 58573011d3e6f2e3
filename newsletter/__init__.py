"""newsletter: news bulletins in, per-country feeds, pages and email newsletters out."""

__version__ = "0.1.0"
