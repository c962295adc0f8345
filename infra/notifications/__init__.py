"""E-mail notifications from the log: planned per event, built and sent from an outbox."""
