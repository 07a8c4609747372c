"""The chapters' experiments (the papers' tables and figures), shared by notebooks, benchmarks and
tests. Notebooks keep the story and call these."""
