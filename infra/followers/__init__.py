"""Followers of the event log: one loop (`Follower`) with leadership, wake-ups, backoff,
heartbeat and positions, that every consumer of the log plugs into."""

from infra.followers.follower import Follower
from infra.followers.interface import Consumer, Dispatcher, Item
from infra.followers.trust import EventTrust

__all__ = ["Consumer", "Dispatcher", "EventTrust", "Follower", "Item"]
