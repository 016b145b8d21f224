"""What the Spark engine needs around the dbt build (docs/engines.md): the ingested
tables written out as Parquet for Spark, and Spark's marts read back into the work
database for the quality gate and the publish step."""
