"""The output folder: the writer (atomic writes, stale files removed) and WebSub announcements."""
