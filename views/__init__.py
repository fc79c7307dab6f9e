"""One blueprint per area; handlers stay thin and leave queries to `models`."""
