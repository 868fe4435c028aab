"""Voice rooms: the room (``room``), its parts (participants, events, transcript, stats,
records) and the registry of rooms (``registry``)."""
