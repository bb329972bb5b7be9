"""The shipped request types in the words of each language the office writes to alumni in: a
name (for notices and pages) and a sentence saying what the type is for (the request form).

``requests.toml`` gives each type an English ``title``; a type the office added there is named by
that title in every language, with no description, until words are added here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from alumni.messages.rendering import locale_candidates

__all__ = ["LOCALES", "TypeWords", "type_words"]


@dataclass(frozen=True, slots=True)
class TypeWords:
    """A type's name and what it is for, in one language (``description`` may be empty)."""

    title: str
    description: str


_EN = {
    "letter": (
        "Recommendation letter",
        "A letter of recommendation from the school for a job, a course or a grant.",
    ),
    "certificate": (
        "Certificate or transcript",
        "A copy of your diploma, a certificate of your studies or your transcript. We check "
        "that it is you before we send it.",
    ),
    "referral": (
        "Job introduction",
        "An introduction to a graduate who works where you would like to, among those who "
        "agreed to be asked.",
    ),
    "welfare": (
        "Help and support",
        "If you are going through something difficult and would like help. This stays "
        "confidential: only the officers named for it can read it, and our emails never "
        "repeat what you write.",
    ),
    "question": ("Question", "Anything else you would like to ask us."),
    "idea": (
        "Idea",
        "An idea for the school or your class. We will tell you what we decide and why.",
    ),
}
_ES = {
    "letter": (
        "Carta de recomendación",
        "Una carta de recomendación de la escuela para un empleo, un curso o una beca.",
    ),
    "certificate": (
        "Certificado o expediente",
        "Una copia de tu título, un certificado de estudios o tu expediente académico. "
        "Comprobamos que eres tú antes de enviarlo.",
    ),
    "referral": (
        "Presentación para un empleo",
        "Te presentamos a un graduado que trabaja donde te gustaría trabajar, entre quienes "
        "aceptaron que se lo pidiéramos.",
    ),
    "welfare": (
        "Ayuda y apoyo",
        "Si estás pasando por algo difícil y quieres ayuda. Es confidencial: solo pueden leerlo "
        "las personas designadas para ello, y nuestros correos nunca repiten lo que escribes.",
    ),
    "question": ("Pregunta", "Cualquier otra cosa que quieras preguntarnos."),
    "idea": (
        "Idea",
        "Una idea para la escuela o tu promoción. Te diremos qué decidimos y por qué.",
    ),
}
_FR = {
    "letter": (
        "Lettre de recommandation",
        "Une lettre de recommandation de l’école pour un emploi, une formation ou une bourse.",
    ),
    "certificate": (
        "Attestation ou relevé de notes",
        "Une copie de votre diplôme, une attestation de scolarité ou votre relevé de notes. "
        "Nous vérifions que c’est bien vous avant de l’envoyer.",
    ),
    "referral": (
        "Mise en relation pour un emploi",
        "Une mise en relation avec un ancien qui travaille là où vous aimeriez travailler, "
        "parmi ceux qui ont accepté d’être sollicités.",
    ),
    "welfare": (
        "Aide et soutien",
        "Si vous traversez une période difficile et souhaitez de l’aide. Cela reste "
        "confidentiel : seules les personnes désignées peuvent le lire, et nos courriels ne "
        "reprennent jamais ce que vous écrivez.",
    ),
    "question": ("Question", "Tout ce que vous souhaitez nous demander d’autre."),
    "idea": (
        "Idée",
        "Une idée pour l’école ou votre promotion. Nous vous dirons ce que nous décidons et "
        "pourquoi.",
    ),
}
_PT_BR = {
    "letter": (
        "Carta de recomendação",
        "Uma carta de recomendação da escola para um emprego, um curso ou uma bolsa.",
    ),
    "certificate": (
        "Certificado ou histórico",
        "Uma cópia do seu diploma, uma declaração de estudos ou o seu histórico escolar. "
        "Confirmamos que é você antes de enviar.",
    ),
    "referral": (
        "Indicação para um emprego",
        "Apresentamos você a um ex-aluno que trabalha onde você gostaria de trabalhar, entre os "
        "que aceitaram ser procurados.",
    ),
    "welfare": (
        "Ajuda e apoio",
        "Se você está passando por algo difícil e gostaria de ajuda. É confidencial: só as "
        "pessoas designadas podem ler, e nossos e-mails nunca repetem o que você escreve.",
    ),
    "question": ("Pergunta", "Qualquer outra coisa que você queira nos perguntar."),
    "idea": (
        "Ideia",
        "Uma ideia para a escola ou a sua turma. Diremos o que decidimos e por quê.",
    ),
}

_AR = {
    "letter": (
        "خطاب توصية",
        "خطاب توصية من المدرسة لوظيفة أو دورة دراسية أو منحة.",
    ),
    "certificate": (
        "شهادة أو كشف درجات",
        "نسخة من شهادتك، أو إفادة بدراستك، أو كشف درجاتك. نتحقق من هويتك قبل إرسالها.",
    ),
    "referral": (
        "تعريف بجهة عمل",
        "نعرّفك على خريج يعمل حيث تودّ أن تعمل، من بين من وافقوا على أن نطلب منهم ذلك.",
    ),
    "welfare": (
        "مساعدة ودعم",
        "إن كنت تمر بظرف صعب وتودّ المساعدة. يبقى هذا سريًّا: لا يقرؤه إلا الموظفون "
        "المكلّفون به، ورسائلنا لا تكرر أبدًا ما تكتبه.",
    ),
    "question": ("سؤال", "أي شيء آخر تودّ أن تسألنا عنه."),
    "idea": (
        "فكرة",
        "فكرة للمدرسة أو لدفعتك. سنخبرك بما نقرره ولماذا.",
    ),
}

_WORDS: Final = {"en": _EN, "es": _ES, "fr": _FR, "pt-BR": _PT_BR, "ar": _AR}
LOCALES: Final = tuple(_WORDS)
_BY_LOWER: Final = {locale.lower(): locale for locale in LOCALES}


def type_words(type_name: str, locale: str | None, *, title: str) -> TypeWords:
    """The words of request type ``type_name`` for a reader of ``locale`` (``pt-BR``, then
    ``pt``, then English), or ``title`` and no description for a type without words here."""
    for candidate in locale_candidates(locale):
        words = _WORDS.get(_BY_LOWER.get(candidate.lower(), ""), {}).get(type_name)
        if words is not None:
            return TypeWords(*words)
    return TypeWords(title, "")
