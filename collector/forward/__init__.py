"""Forwarding: every accepted event re-sent, in log order, to other OpenLineage backends."""
