"""mllineage read client and command line."""
