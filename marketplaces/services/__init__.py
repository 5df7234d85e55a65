"""Marketplace use cases: sync runs (``sync``), importing orders (``ingest``), pushes
of tracking and stock (``pushes``), connections and their credentials (``connections``),
replaying failed records (``replay``)."""
