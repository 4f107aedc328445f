"""preflight's rules, one module per family; installed as `preflight.rules`."""
