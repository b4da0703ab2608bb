"""Load benchmark: Raasel against a bare socket.io relay (docs/benchmarks.md)."""
