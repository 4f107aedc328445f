"""Requests written as AWS CLI command lines (``aws sagemaker create-cluster --cluster-name x ...``)
in shell scripts, Markdown and CI workflows, and given to the drop-in gate (``preflight aws ...``).

``words`` is what the two halves share: the shell reader turns text into commands of ``Word``s
(quotes removed, each character's place in the file kept, unknown expansions marked); the
argument reader turns a command's words into the request the AWS CLI would build from them.
"""
