"""Adapters: database, storage, importers and other I/O."""
