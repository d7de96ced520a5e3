"""Prefect flows, the CLI and the map config: the only layer that knows Prefect, the config file and the order of
steps. Importing it changes nothing: a process that runs flows calls `flows.environment.prepare_prefect` first."""
