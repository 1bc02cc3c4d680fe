"""The admins' pages: the knowledge (intents, texts, needs and questions, departments,
routing), trying a sentence, the NLU inbox, training and models, the audit log, and the
deliveries that failed."""
