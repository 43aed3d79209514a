"""Operating figures: issuance, activation, data-compliance and aggregation rates."""
