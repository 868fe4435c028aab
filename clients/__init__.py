"""Loopback clients of a running Podium, shared by the tests and the benchmarks: an aiortc
peer and a room event log (``rtc``), real-time tracks (``tracks``), the speech fixtures and
synthetic noise (``fixtures``), and A2A client helpers (``a2a``)."""
