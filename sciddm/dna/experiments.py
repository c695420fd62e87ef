"""Registered reproductions (filled in below)."""
