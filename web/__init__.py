"""The web app where parties decide: thin Flask views over the engine, through ``citydeal.bootstrap``."""
