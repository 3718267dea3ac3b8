"""yaogc.gc: garbling with free-XOR and half-gates over Schedules (no sockets here)."""
