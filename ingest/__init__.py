"""nianbao ingest: read township annual reports, map them to canonical keys, check and store them."""

PARSER_VERSION = "0.1.0"
