"""Importing records from CSV files (`afterview import …`), through the same upsert-by-external-id
rules as `PUT /v1/<records>/by-external-id/{external_id}`."""
