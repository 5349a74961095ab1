"""The LLM adapter: Anthropic's Messages API behind one verb, `ReviewModel.review`.

`model_from_settings` builds the model the pipeline uses (or None when the settings name no
model); `ModelRequest` / `ModelReply` are the only shapes that cross this boundary, and
`LLMUnavailable` / `LLMRejected` the only errors.
"""

from app.llm.anthropic_model import AnthropicModel
from app.llm.clients import make_client, model_from_settings, model_of_one_run
from app.llm.errors import LLMError, LLMRejected, LLMUnavailable
from app.llm.model import ModelReply, ModelRequest, Repair, ReviewModel, Usage

__all__ = [
    "AnthropicModel",
    "LLMError",
    "LLMRejected",
    "LLMUnavailable",
    "ModelReply",
    "ModelRequest",
    "Repair",
    "ReviewModel",
    "Usage",
    "make_client",
    "model_from_settings",
    "model_of_one_run",
]
