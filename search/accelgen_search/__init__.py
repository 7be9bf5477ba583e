"""accelgen-search: an Optuna design search over `accelgen eval` records (docs/search.md)."""
