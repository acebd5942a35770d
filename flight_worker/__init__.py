"""flight_worker."""
