"""Cassandra settings are parsed strictly (no server needed)."""

from __future__ import annotations

import pytest

from raasel.config import Settings
from raasel.storage.cassandra_schema import _replication_literal
from raasel.storage.cassandra_session import CassandraOptions, parse_hosts


def test_hosts_share_one_port() -> None:
    assert parse_hosts("a, b") == (("a", "b"), 9042)
    assert parse_hosts("a:9043,b:9043") == (("a", "b"), 9043)
    assert parse_hosts("a,b:9043") == (("a", "b"), 9043)
    with pytest.raises(ValueError, match="one port"):
        parse_hosts("a:1,b:2")
    with pytest.raises(ValueError, match="no host"):
        parse_hosts(" , ")


def test_options_refuse_unknown_levels_and_unsafe_keyspaces() -> None:
    with pytest.raises(ValueError, match="consistency"):
        CassandraOptions(hosts=("a",), consistency="MOSTLY")
    with pytest.raises(ValueError, match="keyspace"):
        CassandraOptions(hosts=("a",), keyspace="x; DROP KEYSPACE y")
    options = CassandraOptions.from_settings(
        Settings(cassandra_hosts="h:9999", cassandra_consistency="one")
    )
    assert (options.hosts, options.port, options.consistency) == (("h",), 9999, "one")
    assert options.protocol_version is None, "the driver negotiates unless told"


def test_replication_map_is_quoted() -> None:
    literal = _replication_literal({"class": "NetworkTopologyStrategy", "dc'1": 3})
    assert literal == "{'class': 'NetworkTopologyStrategy', 'dc''1': '3'}"
