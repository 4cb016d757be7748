"""mllineage benchmark harness: workload generator, servers, benchmarks and report (not shipped)."""
