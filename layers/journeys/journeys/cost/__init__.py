"""What running journeys costs on AWS: unit prices (prices.py) and `journeys cost` estimates (estimate.py)."""
