//! Compiling a definition to warehouse SQL (DuckDB, Snowflake, BigQuery, Spark SQL).
