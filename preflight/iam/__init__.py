"""IAM: the action catalog, policy documents, what a request needs, and an evaluator with IAM's semantics."""
