"""Reports and statistics: daily aggregates, period summaries, charts and spreadsheet exports."""
