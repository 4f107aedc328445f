"""preflight: policy linter and pre-flight validator for SageMaker HyperPod cluster operations."""

__version__ = "0.1.0"
