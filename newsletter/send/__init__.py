"""Sending newsletters: subscribers, the send log, and the SMTP delivery loop."""
