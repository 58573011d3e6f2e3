"""Subscribers: lists and addresses, the CSV exchange format, the store, tokens and bounces."""
