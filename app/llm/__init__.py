"""The LLM adapter: Anthropic's Messages API behind one verb, `ReviewModel.review`.

`model_from_config` builds the model the pipeline uses from an `LLMConfig` (which the
composition side builds from the settings: `app.jobs.llm_config`); `ModelRequest` /
`ModelReply` are the only shapes that cross this boundary, and `LLMUnavailable` /
`LLMRejected` the only errors.
"""

from app.llm.anthropic_model import AnthropicModel
from app.llm.clients import make_client, model_from_config, model_of_one_run
from app.llm.config import LLMConfig, Provider
from app.llm.errors import LLMError, LLMRejected, LLMUnavailable
from app.llm.model import ModelReply, ModelRequest, Repair, ReviewModel, Usage

__all__ = [
    "AnthropicModel",
    "LLMConfig",
    "LLMError",
    "LLMRejected",
    "LLMUnavailable",
    "ModelReply",
    "ModelRequest",
    "Provider",
    "Repair",
    "ReviewModel",
    "Usage",
    "make_client",
    "model_from_config",
    "model_of_one_run",
]
