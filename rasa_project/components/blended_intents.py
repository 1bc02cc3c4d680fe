"""An intent classifier that averages its reading with DIET's.

DIET and a logistic regression over the same sparse features err in opposite directions on
residents' messages: DIET reads a combination of needs too eagerly ("a permit for a street
party with tables" comes back as permit+tools), the regression too rarely. Their average is
better than either on messages neither trained on (README, "Quality"). This component runs
after DIET in the pipeline, trains a regression like Rasa's LogisticRegressionClassifier and
replaces DIET's intent ranking with the weighted average of both. Rasa loads it by module
path from this folder (rasa_commands puts it on PYTHONPATH); the app never imports it.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
)
from rasa.shared.nlu.training_data.message import Message

# The share of the earlier classifier (DIET) in the average; the rest is the regression's.
EARLIER_WEIGHT = "earlier_weight"
RANKING_LENGTH = "ranking_length"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class BlendedIntentClassifier(LogisticRegressionClassifier):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**LogisticRegressionClassifier.get_default_config(), EARLIER_WEIGHT: 0.5}

    def process(self, messages: List[Message]) -> List[Message]:
        """Blend the ranking already on each message with this regression's."""
        probabilities = self.clf.predict_proba(self._create_X(messages))
        for message, row in zip(messages, probabilities):
            own = dict(zip(self.clf.classes_, row))
            ranking = blend(message.get(INTENT_RANKING_KEY) or [], own, self.config[EARLIER_WEIGHT])
            if self.config[RANKING_LENGTH] > 0:
                ranking = ranking[: self.config[RANKING_LENGTH]]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages


def blend(
    earlier: List[Dict[Text, Any]], own: Dict[Text, float], earlier_weight: float
) -> List[Dict[Text, Any]]:
    """The weighted average of two rankings, best first; a label missing from one of them
    counts as 0 there. Without an earlier ranking the regression's stands alone."""
    before = {item[INTENT_NAME_KEY]: item[PREDICTED_CONFIDENCE_KEY] for item in earlier}
    weight = earlier_weight if before else 0.0
    names = set(before) | set(own)
    averaged = {
        name: weight * before.get(name, 0.0) + (1 - weight) * own.get(name, 0.0) for name in names
    }
    return [
        {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: float(confidence)}
        for name, confidence in sorted(averaged.items(), key=lambda item: (-item[1], item[0]))
    ]
