"""The subscription web app (`newsletter serve`)."""
