"""Pure domain: rules and value objects, no framework, no I/O."""
