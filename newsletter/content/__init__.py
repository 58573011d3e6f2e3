"""Content: bulletin sources, decoding, dates, markup, parsing, countries, entries and the catalog."""
