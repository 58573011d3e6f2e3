"""Rendering: units of output, links, templates, pages, feeds and newsletter issues. Never touches the disk."""
