"""Line rules of the default extractor: drop boilerplate lines from resiliparse's output.

resiliparse writes one block per line; its ``minimal_html`` output with links
gives each line's link density for free. A line is dropped when it is mostly
link text, when its wording is a known kind of boilerplate (share, comment,
newsletter and login prompts, ad labels, photo credits, copyright, post meta,
bare dates, single navigation words), or when it heads a "related articles"
block, whose title-like lines go with it. Lines before an early ``<h1>``
(breadcrumbs, datelines) and short non-sentences after the last sentence
(bylines, menus) are trimmed. The rules are generic web vocabulary in German,
English, Spanish, French, Italian and Portuguese, and only look at lines of at
most 250 characters, so running text is left alone. They run on the
lower-cased, stripped line, and are indexed by the words that must occur for
them to match, so a line only meets the few regular expressions its own
words call for.
"""
from __future__ import annotations

import html as _html
import re

__all__ = ["clean_lines"]

# Rules keyed by the first word of the line (after leading punctuation) and
# matched from that word on. Two kinds: headings of "related articles" blocks
# (the whole line must match, bar a short tail without sentence punctuation)
# and boilerplate recognisable from how the line starts.
_RELATED_RULES = (
    ("das dies diese dieses dieser thema könnte dürfte",
     r"(?:(?:das|dies|diese[sr]?)\s)?(?:thema\s)?(?:könnte|dürfte)\s(?:sie|dich|euch|ihnen|dir)\s"
     r"(?:auch\s|ebenfalls\s)?(?:interessieren|gefallen)"),
    ("auch ebenfalls", r"(?:auch|ebenfalls)\s(?:interessant|lesenswert)"),
    ("lesen sehen hören lies", r"(?:(?:lesen|sehen|hören)\ssie|lies)\s(?:auch|mehr|hier|weiter)"),
    ("schon", r"schon\sgelesen"),
    ("mehr", r"mehr\s(?:zum\sthema|zu\sdiesem\sthema|zum\sereignis|aus\s|zu\s|von\s|interessantes|artikel|beiträge"
             r"|news|nachrichten|kolumnen|infos?\b|themen)"),
    ("noch", r"noch\smehr\b"),
    ("weitere", r"weitere\s(?:artikel|beiträge|nachrichten|news|themen|informationen|infos|links|meldungen|\w*tipps"
                r"|aktuelle|videos|geschichten|berichte)"),
    ("weiterführende weiterführender weiterführenden",
     r"weiterführende[rn]?\s(?:links?|informationen|artikel|literatur|inhalte)"),
    ("verwandte ähnliche passende empfohlene beliebte neueste aktuelle interessante",
     r"(?:verwandte|ähnliche|passende|empfohlene|beliebte|neueste|aktuelle|interessante)\s"
     r"(?:artikel|beiträge|themen\w*|nachrichten|news|stories|meldungen|posts)"),
    ("die meist " + " ".join(stem + ending for stem in ("meistgelesen", "meistdiskutiert", "meistkommentiert",
                                                         "meistgeklickt", "meistgesucht")
                             for ending in ("", "e", "en", "er", "es")),
     r"(?:die\s)?meist[-\s]?(?:gelesen|diskutiert|kommentiert|geklickt|gesucht)\w*"),
    ("viel", r"viel\s(?:gelesen|diskutiert|kommentiert)"),
    ("top topthemen topartikel topnews", r"top[-\s]?(?:themen|artikel|news|stories)|top\sstories"),
    ("zum zur", r"zum\sweiterlesen|zur\sperson"),
    ("themen", r"themen\sim\s(?:artikel|beitrag)"),
    ("siehe", r"siehe\sauch"),
    ("über", r"über\s(?:den|die)\sautor(?:in)?"),
    ("der nächste nächster vorherige vorheriger", r"(?:der\s)?(?:nächste|vorherige)r?\s(?:beitrag|artikel)"),
    ("related", r"related(?:\s(?:articles?|posts?|stories|content|topics|news|reading|links|coverage))?"),
    ("you we", r"(?:you|we\sthink\syou)\s(?:may|might|will|could)\s(?:also\s)?(?:like|enjoy|be\sinterested)"),
    ("read see", r"(?:read|see)\s(?:more|also|next)\b"),
    ("more", r"more\s(?:from|stories|on\s|news|articles|like\sthis|in\s|to\sread|reading)"),
    ("recommended", r"recommended(?:\s(?:for\syou|reading|articles|stories|posts))?"),
    ("most popular read viewed shared",
     r"(?:most\s)?(?:popular|read|viewed|shared)\s(?:posts|stories|articles|now)|most\s(?:popular|read|viewed|shared)"),
    ("trending", r"trending(?:\s(?:now|stories|articles))?"),
    ("further explore", r"further\sreading|explore\sfurther"),
    ("about", r"about\sthe\sauthor"),
    ("also", r"also\s(?:read|see|on)\b"),
    ("latest recent", r"(?:latest|recent)\s(?:news|posts|stories|articles)"),
    ("other similar", r"(?:other|similar)\s(?:articles|stories|posts)"),
    ("editor", r"editor'?s\spicks"),
    ("next previous", r"(?:next|previous)\s(?:article|post|story)"),
    ("te le les", r"(?:te|le|les)\s(?:puede|pueden)\s(?:interesar|gustar)"),
    ("lea lee leer", r"(?:lea|lee|leer)\s(?:también|más)"),
    ("noticias artículos temas notas contenidos",
     r"(?:noticias|artículos|temas|notas|contenidos)\s(?:relacionad[oa]s|similares)"),
    ("más", r"más\s(?:noticias|sobre|leíd[oa]s?|información|vist[oa]s)"),
    ("vea ver mira puedes", r"(?:vea|ver|mira)\s(?:también|más)|puedes\sver"),
    ("lo", r"lo\smás\s(?:leído|visto)"),
    ("à lire", r"(?:à\s)?lire\s(?:aussi|également|la\ssuite)"),
    ("sur", r"sur\sle\smême\s(?:sujet|thème)"),
    ("articles article contenus contenu sujets sujet",
     r"(?:articles?|contenus?|sujets?)\s(?:similaires|associés|liés|recommandés)"),
    ("vous", r"vous\s(?:aimerez|pourriez\saimer)\saussi"),
    ("les plus", r"(?:les\s)?plus\s(?:lus|populaires|partagés)"),
    ("leggi potrebbe articoli", r"leggi\sanche|potrebbe\s(?:interessarti|piacerti)|articoli\scorrelati"),
    ("leia veja notícias artigos mais",
     r"(?:leia|veja)\s(?:também|mais)|(?:notícias|artigos)\srelacionad[oa]s|mais\slid[oa]s"),
)
_RELATED_TAIL = r"\b[^.!?]{0,40}$"
# Chinese headings have no spaces to split words on.
_RELATED_CJK = re.compile(r"(?:相关(?:阅读|文章|新闻|推荐|内容)|热门(?:推荐|文章|新闻)|推荐阅读|延伸阅读).{0,10}$")

_START_RULES = (
    # share prompts
    ("jetzt bitte artikel beitrag seite news teilen share compartir partager condividi partilhar",
     r"(?:jetzt\s|bitte\s)?(?:artikel\s|beitrag\s|seite\s|news\s)?"
     r"(?:teilen|share|compartir|partager|condividi|partilhar)\b"),
    # ad labels
    ("anzeige advertisement advertising sponsored gesponsert publicidad publicité pubblicità reklame",
     r"(?:anzeige|advertisement|advertising|sponsored|gesponsert|publicidad|publicité|pubblicità|reklame)\b"),
    ("werbung", r"werbung(?:\W*$|\.\s)"),
    # picture credits and sources
    ("foto fotos photo photos bild bilder bildquelle bildnachweis bildrechte image images quelle quellen source "
     "sources credit credits crédit crédits titelbild beitragsbild titelfoto symbolbild abbildung abb grafik "
     "illustration copyright fuente",
     r"(?:fotos?|photos?|bild(?:er|quelle|nachweis|rechte)?|images?|image\scredit|quellen?|sources?|credits?"
     r"|crédits?(?:\sphotos?)?|titelbild|beitragsbild|titelfoto|symbolbild|abbildung(?:\s\d+)?|abb\.\s?\d*"
     r"|grafik|illustration|copyright|fuente|foto\scredit)\s*[:©|]"),
    # post meta
    ("posted published veröffentlicht aktualisiert updated zuletzt last stand erstellt publicado actualizado "
     "publié mis pubblicato release erschienen",
     r"(?:posted|published|veröffentlicht|aktualisiert|updated|zuletzt\s(?:aktualisiert|geändert|bearbeitet)"
     r"|last\s(?:modified|updated)|stand|erstellt|publicado|actualizado|publié|mis\sà\sjour|pubblicato"
     r"|release\sdate|erschienen)\b[^.!?]{0,60}$|posted\s(?:in|by|on)\b"),
    ("tag tags schlagwort schlagworte schlagwörter schlüsselwörter stichwörter kategorie kategorien categories "
     "category filed rubrik label labels etiquetas mots",
     r"(?:tags?|schlagw(?:ö|o)rte?|schlüsselwörter|stichwörter|kategorien?|categories|category|filed\sunder"
     r"|rubrik|labels?|etiquetas|mots-clés)\s*:"),
    ("geschrieben", r"geschrieben\s(?:von|am)\b"),
    ("this", r"this\sentry\swas\sposted"),
    ("aufrufe views hits zugriffe seitenaufrufe", r"(?:aufrufe|views|hits|zugriffe|seitenaufrufe)\s*:\s*\d"),
    # "read more" links and image zoom labels
    ("weiterlesen read continue mehr leer lire bild vergrößern",
     r"(?:weiterlesen|read\smore|continue\sreading|mehr\slesen|leer\smás|lire\sla\ssuite|(?:bild\s)?vergrößern)\b"),
    # server error messages leaking into the page
    ("warning notice deprecated fatal parse strict",
     r"(?:warning|notice|deprecated|fatal\serror|parse\serror|strict\sstandards):\s.{0,200}\son\sline\s\d+"),
)

# Boilerplate phrases anywhere in a line, keyed by words that must occur.
_PHRASE_RULES = (
    ("teilen share", r"(?:diese[ns]?|den|the|this)\s(?:artikel|beitrag|seite|news|post|article|story|page)\s"
                     r"(?:mit\sanderen\s)?(?:teilen|share)|\bshare\s(?:this|on|via|the)\b"),
    ("sharing sociable", r"sharing\sis\scaring|be\ssociable"),
    ("kommentar antwort", r"(?:hinterlasse|hinterlassen\ssie|schreibe?|schreiben\ssie|verfasse|verfassen\ssie)\s"
                          r"(?:einen|eine|deinen|ihren)\s(?:kommentar|antwort)"),
    ("kommentar kommentare", r"\bkommentare?\s(?:verfassen|schreiben|abgeben|hinterlassen|anzeigen|lesen|insgesamt"
                             r"|\(\d)|kommentare\szu\sschreiben"),
    ("comment reply response", r"\b(?:leave|post|add|write)\s(?:a|your)\s(?:comment|reply|response)"),
    ("kommentare comments antworten responses replies comentarios commentaires",
     r"\b(?:keine|no|\d+)\s(?:kommentare|comments|antworten|responses|replies|comentarios|commentaires)\b"),
    ("diskutieren réactions discussion", r"diskutieren\ssie\smit|vos\sréactions|join\sthe\sdiscussion"),
    ("e-mail-adresse address required felder pflichtfelder",
     r"e-?mail-?adresse\s(?:wird|will)\snicht|email\saddress\swill\snot|required\sfields\sare"
     r"|erforderliche\sfelder|pflichtfelder"),
    ("angemeldet eingeloggt registriert logged signed",
     r"(?:muss|musst|müssen|must)\s(?:sie\s|du\s)?(?:be\s)?(?:angemeldet|eingeloggt|registriert|logged\sin"
     r"|signed\sin)|(?:nicht|not)\s(?:eingeloggt|angemeldet|logged\sin)"),
    ("log login sign", r"(?:log|sign)\s?in\sto\s(?:comment|reply|post|continue|read)"),
    ("kommentieren", r"um\szu\skommentieren|zum\skommentieren"),
    ("follow folge folgen síguenos siguenos suivez-nous seguici",
     r"follow\sus|folg(?:e|en\ssie)\suns|s[ií]guenos|suivez-nous|seguici"),
    ("stay", r"stay\s(?:up[-\s]to[-\s]date|tuned|informed|connected)"),
    ("verpassen versäumen miss", r"nichts\smehr\s(?:verpassen|versäumen)|never\smiss|don'?t\smiss\s(?:out|a\b|any)"),
    ("affiliate affiliate-links werbung advertising advertiser advertisers advertisement sponsored",
     r"(?:enthält|contains?)\s(?:affiliate|werbung|advertis|sponsored)|affiliate[-\s]links?|advertising\sdisclosure"),
    ("compensation commission", r"(?:receive|earn)\s(?:a\s)?(?:compensation|commission)"),
    ("provision", r"provision\s(?:erhalten|bekommen)"),
    ("rights vorbehalten derechos droits diritti",
     r"all\srights\sreserved|alle\srechte\svorbehalten|todos\slos\sderechos|tous\sdroits|tutti\si\sdiritti"),
    ("picture picture-alliance getty gettyimages shutterstock istock",
     r"picture[-\s]alliance|getty\s?images|shutterstock|istock"),
    ("min minuten minutes read",
     r"\b\d+\s?(?:min(?:\.|uten?|utes?)?|minuten)\s(?:read|lesezeit|lesen|de\slectura|de\slecture)\b|\bmin\sread\b"),
    ("lesezeit", r"lesezeit"),
    ("reading", r"reading\stime"),
    ("bewerten rate helpful hilfreich nützlich gefallen gefällt",
     r"bewerten\ssie\s(?:diesen|den)|(?:artikel|beitrag)\sbewerten|rate\sthis|was\sthis\s(?:article|helpful|page)"
     r"|war\s(?:dieser|der)\s(?:artikel|beitrag)\s(?:hilfreich|nützlich)|(?:artikel|beitrag)\sgefallen"
     r"|gefällt\s(?:ihnen|dir)\s(?:dieser|der|unser)"),
    ("cookie cookies", r"akzeptier|accept|verwende|\buse|einverstanden|consent|zustimm|datenschutz|privacy|browser"),
    ("javascript", r"(?:aktivieren\ssie|enable)\sjavascript|javascript\s(?:is\s)?(?:disabled|deaktiviert)"),
    ("unterstütze unterstützen support",
     r"unterstütze?n?\s(?:uns|unsere\sarbeit)|support\s(?:us|our\swork|independent)"),
    ("permalink akismet netiquette", r"permalink|akismet|netiquette"),
    ("foto fotos photo photos bild image images quelle credit credits",
     r"\b(?:fotos?|photos?|bild|images?|quelle|credits?)\s?:\s?[^.!?:]{1,60}$"),
    ("gewähr", r"ohne\sgewähr"),
    ("online", r"\b\d+\s(?:besucher|gäste|users?|guests?|mitglieder|members)\b.{0,40}\bonline\b"),
    ("forum", r"mitglieder\sin\sdiesem\sforum"),
)

# Keywords strong enough to drop a short line wherever they occur, inside
# compounds too ("Musiknewsletter").
_WEAK_STEMS = ("newsletter", "abonnier", "subscri", "suscr", "abonnez", "sign up", "registrieren sie sich",
               "melde dich an", "copyright", "©", "captcha", "spenden", "donate", "push notification")

# Lines that are a navigation or widget word and nothing else.
_NAV_WORDS = frozenset("""
    start home startseite kontakt contact impressum imprint datenschutz datenschutzerklärung privacy menü menu
    suche search login anmelden registrieren zurück back weiter next previous vorherige nächste top drucken print
    pdf teilen share tweet facebook twitter instagram linkedin whatsapp xing pinterest telegram e-mail email mail
    rss weiterlesen mehr more antworten reply abonnieren subscribe advertisement anzeige werbung schließen close
    tags kommentare comments kommentar comment vergrößern von by inicio contacto accueil
""".split())

# Teasers: a snippet cut short and followed by a "more" link.
_TEASER_END = re.compile(r"(?:…|\.\.\.|\[…\]|\[\.\.\.\])\s*(?:mehr|weiterlesen|read\smore|more|lesen|continue"
                         r"|leer\smás|lire\sla\ssuite)\W*$")

_MONTH = (r"(?:jan(?:uar|uary)?|feb(?:ruar|ruary)?|märz?|mar(?:ch)?|apr(?:il)?|mai|may|jun[ie]?|jul[iy]?"
          r"|aug(?:ust)?|sep(?:t(?:ember)?)?|okt(?:ober)?|oct(?:ober)?|nov(?:ember)?|dez(?:ember)?|dec(?:ember)?"
          r"|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre"
          r"|janvier|février|mars|avril|juin|juillet|août|septembre|octobre|novembre|décembre)\.?")
_DATE = re.compile(r"\d{1,2}[./-]\s?\d{1,2}[./-]\s?\d{2,4}|\d{4}[-/]\d{1,2}[-/]\d{1,2}|\b\d{1,2}:\d{2}\b"
                   r"|\d{1,2}\.?\s" + _MONTH + r"|" + _MONTH + r"\s\d{1,2}\b")
# Words a dateline may hold besides numbers.
_DATE_VOCABULARY = frozenset("""
    januar january jan februar february feb märz mär march mar april apr mai may juni june jun juli july jul august
    aug september sept sep oktober october okt oct november nov dezember december dez dec enero febrero marzo abril
    mayo junio julio agosto septiembre octubre noviembre diciembre janvier février mars avril juin juillet août
    septembre octobre novembre décembre montag dienstag mittwoch donnerstag freitag samstag sonntag monday tuesday
    wednesday thursday friday saturday sunday mon tue wed thu fri sat sun mo di mi do fr sa so lunes martes
    miércoles jueves viernes sábado domingo lundi mardi mercredi jeudi vendredi samedi dimanche uhr am pm h um de
    del le the on at von by cet cest mez utc gmt st nd rd th
""".split())
_DATE_STRIP = "0123456789.,;:!?()[]/|-–—·•∙'’"

_FIRST_WORD = re.compile(r"[\W_]*(\w+)")
# Punctuation that may cling to a word ("Kommentar:", "(Foto").
_CLINGING = ".,;:!?)]\"'“”»«…"
_OPENING = "([\"'„“«»¿¡"
# Last characters of a line that ends like a sentence (or a quotation).
_SENTENCE_END_CHARS = frozenset('.!?…"“”»«)]')
_TAG = re.compile(r"<[^>]*>")
_ANCHOR = re.compile(r"<a\b[^>]*>(.*?)</a>", re.DOTALL)
_BLANK_RUNS = re.compile(r"\n{3,}")

_LINK_DENSITY_MAX = 0.5    # share of a line's characters inside <a>
_RULE_MAX_CHARS = 250      # wording rules only look at lines up to this long
_WEAK_MAX_CHARS = 150
_DATE_MAX_CHARS = 60
_NAV_MAX_CHARS = 25
_HEADING_MAX_CHARS = 80
_TITLE_MAX_CHARS = 120     # a "related" block's entries are title-like lines
_SOLID_MIN_CHARS = 40      # a line this long ends the text well even without a full stop


def _compile_by_first_word() -> dict[str, tuple[tuple[re.Pattern, bool], ...]]:
    index: dict[str, list[tuple[re.Pattern, bool]]] = {}
    for rules, related in ((_RELATED_RULES, True), (_START_RULES, False)):
        for words, pattern in rules:
            compiled = re.compile("(?:" + pattern + ")" + (_RELATED_TAIL if related else ""))
            for word in words.split():
                index.setdefault(word, []).append((compiled, related))
    return {word: tuple(rules) for word, rules in index.items()}


def _compile_by_word() -> tuple[dict[str, tuple[re.Pattern, ...]], dict[str, str]]:
    index: dict[str, list[re.Pattern]] = {}
    for words, pattern in _PHRASE_RULES:
        compiled = re.compile(pattern)
        for word in words.split():
            index.setdefault(word, []).append(compiled)
    # Every spelling a whitespace-split token may have: the word with a
    # punctuation mark clinging to it on either side, or both.
    spellings = {}
    for word in index:
        for before in ("",) + tuple(_OPENING):
            for after in ("",) + tuple(_CLINGING):
                spellings.setdefault(before + word + after, word)
    return {word: tuple(rules) for word, rules in index.items()}, spellings


_BY_FIRST_WORD = _compile_by_first_word()
_PHRASES_BY_WORD, _TRIGGER_SPELLINGS = _compile_by_word()
_TRIGGERS = frozenset(_TRIGGER_SPELLINGS)


def _is_date_line(low: str) -> bool:
    """A dateline or timestamp and nothing else ("12.12.2022, 08:30 Uhr")."""
    for token in low.split():
        token = token.strip(_DATE_STRIP)
        if token and token not in _DATE_VOCABULARY:
            return False
    return _DATE.search(low) is not None


def _is_boilerplate_wording(low: str, n: int) -> bool:
    """Whether a line (lower-cased, ``n`` characters) reads as boilerplate, wherever it stands."""
    if n <= _NAV_MAX_CHARS and low.strip(" :|»›>-–•.!") in _NAV_WORDS:
        return True
    if n <= _DATE_MAX_CHARS and _is_date_line(low):
        return True
    if ("…" in low or "..." in low) and _TEASER_END.search(low):
        return True
    found = _TRIGGERS.intersection(low.split())
    if found:
        for word in {_TRIGGER_SPELLINGS[token] for token in found}:
            for rule in _PHRASES_BY_WORD[word]:
                if rule.search(low):
                    return True
    if n <= _WEAK_MAX_CHARS:
        for stem in _WEAK_STEMS:
            if stem in low:
                return True
    return False


def _link_chars(raw: str) -> int:
    """Characters of a minimal-HTML line that sit inside <a> elements."""
    chars = 0
    for inner in _ANCHOR.findall(raw):
        if "<" in inner:
            inner = _TAG.sub("", inner)
        chars += len(inner.strip())
    return chars


def _first_word_verdict(low: str, n: int) -> bool | None:
    """True: a "related articles" heading; False: boilerplate by its start; None: neither."""
    first = _FIRST_WORD.match(low)
    if not first:
        return None
    rules = _BY_FIRST_WORD.get(first.group(1))
    if rules:
        start = low[first.start(1):]
        for rule, related in rules:
            if (not related or n <= _HEADING_MAX_CHARS) and rule.match(start):
                return related
    elif n <= _HEADING_MAX_CHARS and ord(low[first.start(1)]) >= 0x3000 and _RELATED_CJK.match(low, first.start(1)):
        return True
    return None


def clean_lines(marked: str) -> str:
    """Filter resiliparse's ``minimal_html`` output (``links=True``) down to main-text lines."""
    raws = marked.split("\n")
    texts = raws
    if "<" in marked:
        texts = _TAG.sub("", marked).split("\n")
        if len(texts) != len(raws):      # a tag spanning lines: strip line by line
            texts = [_TAG.sub("", raw) for raw in raws]
    has_entities = "&" in marked
    has_pre = "<pre" in marked
    # Before the page's <h1> (when it comes early): breadcrumbs, datelines, menus.
    begin = 0
    for i in range(min(len(raws), max(1, len(raws) * 3 // 10))):
        if raws[i].startswith("<h1"):
            begin = i
            break
    kept: list[str] = []
    last_solid = -1          # index in kept of the last line that ends the text well
    in_related = False
    in_pre = False
    for i in range(begin, len(raws)):
        text = texts[i]
        if has_entities and "&" in text:
            text = _html.unescape(text)
        if has_pre:
            raw = raws[i]
            if in_pre or "<pre" in raw:
                in_pre = "</pre>" not in raw
                text = text.rstrip()     # code and poetry: kept as they are
                if text:
                    in_related = False
                    last_solid = len(kept)
                kept.append(text)
                continue
        text = text.strip()
        if not text:
            kept.append("")
            continue
        n = len(text)
        raw = raws[i]
        if "<a" in raw and _link_chars(raw) > _LINK_DENSITY_MAX * n:
            continue
        ends_sentence = text[-1] in _SENTENCE_END_CHARS
        if in_related:
            if n <= _TITLE_MAX_CHARS and not ends_sentence:
                continue
            in_related = False
        if n <= _RULE_MAX_CHARS:
            low = text.lower()
            verdict = _first_word_verdict(low, n)
            if verdict is not None:
                in_related = verdict
                continue
            if _is_boilerplate_wording(low, n):
                continue
        if ends_sentence or n >= _SOLID_MIN_CHARS:
            last_solid = len(kept)
        kept.append(text)
    # Short title-like lines after the last sentence: bylines, menus, teaser titles.
    if last_solid >= 0:
        del kept[last_solid + 1:]
    return _BLANK_RUNS.sub("\n\n", "\n".join(kept)).strip()
