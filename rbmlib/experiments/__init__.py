"""One module per reproduced paper: a Config with named profiles and run(config) -> Result."""
