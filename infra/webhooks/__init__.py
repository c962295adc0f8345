"""Webhook delivery: a tailing reader of the log that queues, signs and sends."""
