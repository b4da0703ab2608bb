"""Proofs fetched from the network: that an organization controls a domain."""
