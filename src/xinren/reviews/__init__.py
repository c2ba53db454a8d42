"""Reviews of listings and merchants' appeals against reviews excluded as fake."""
