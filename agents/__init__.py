"""Personas, brains, the A2A agent services, the debate policy and the intent router."""
