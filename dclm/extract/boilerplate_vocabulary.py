"""The vocabulary of the default extractor's line rules (``dclm.extract.boilerplate_lines``).

Generic web boilerplate wording in German, English, Spanish, French, Italian
and Portuguese (and a few Chinese headings): what "related articles"
headings, share and comment prompts, ad labels, credits, post meta, bylines,
datelines and navigation words look like. Data only: how the rules are
indexed and applied lives in ``dclm.extract.boilerplate_lines``.
"""
from __future__ import annotations

import re

# Rules keyed by the first word of the line (after leading punctuation) and
# matched from that word on. Two kinds: headings of "related articles" blocks
# (the whole line must match, bar a short tail without sentence punctuation)
# and boilerplate recognisable from how the line starts.
RELATED_RULES = (
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
    ("latest recent", r"(?:latest|recent)\s(?:news|posts|stories|articles|comments)"),
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
RELATED_TAIL = r"\b[^.!?]{0,40}$"
# Chinese headings have no spaces to split words on.
RELATED_CJK = re.compile(r"(?:相关(?:阅读|文章|新闻|推荐|内容)|热门(?:推荐|文章|新闻)|推荐阅读|延伸阅读).{0,10}$")

START_RULES = (
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
PHRASE_RULES = (
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
WEAK_STEMS = ("newsletter", "abonnier", "subscri", "suscr", "abonnez", "sign up", "registrieren sie sich",
               "melde dich an", "copyright", "©", "captcha", "spenden", "donate", "push notification")

# Lines that are a navigation or widget word and nothing else.
NAV_WORDS = frozenset("""
    start home startseite kontakt contact impressum imprint datenschutz datenschutzerklärung privacy menü menu
    suche search login anmelden registrieren zurück back weiter next previous vorherige nächste top drucken print
    pdf teilen share tweet facebook twitter instagram linkedin whatsapp xing pinterest telegram e-mail email mail
    rss weiterlesen mehr more antworten reply abonnieren subscribe advertisement anzeige werbung schließen close
    tags kommentare comments kommentar comment vergrößern von by inicio contacto accueil
""".split())

# Teasers: a snippet cut short and followed by a "more" link.
TEASER_END = re.compile(r"(?:…|\.\.\.|\[…\]|\[\.\.\.\])\s*(?:mehr|weiterlesen|read\smore|more|lesen|continue"
                         r"|leer\smás|lire\sla\ssuite)\W*$")

MONTH = (r"(?:jan(?:uar|uary)?|feb(?:ruar|ruary)?|märz?|mar(?:ch)?|apr(?:il)?|mai|may|jun[ie]?|jul[iy]?"
          r"|aug(?:ust)?|sep(?:t(?:ember)?)?|okt(?:ober)?|oct(?:ober)?|nov(?:ember)?|dez(?:ember)?|dec(?:ember)?"
          r"|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre"
          r"|janvier|février|mars|avril|juin|juillet|août|septembre|octobre|novembre|décembre)\.?")
DATE = re.compile(r"\d{1,2}[./-]\s?\d{1,2}[./-]\s?\d{2,4}|\d{4}[-/]\d{1,2}[-/]\d{1,2}|\b\d{1,2}:\d{2}\b"
                   r"|\d{1,2}\.?\s" + MONTH + r"|" + MONTH + r"\s\d{1,2}\b")
# Words a dateline may hold besides numbers.
DATE_VOCABULARY = frozenset("""
    januar january jan februar february feb märz mär march mar april apr mai may juni june jun juli july jul august
    aug september sept sep oktober october okt oct november nov dezember december dez dec enero febrero marzo abril
    mayo junio julio agosto septiembre octubre noviembre diciembre janvier février mars avril juin juillet août
    septembre octobre novembre décembre montag dienstag mittwoch donnerstag freitag samstag sonntag monday tuesday
    wednesday thursday friday saturday sunday mon tue wed thu fri sat sun mo di mi do fr sa so lunes martes
    miércoles jueves viernes sábado domingo lundi mardi mercredi jeudi vendredi samedi dimanche uhr am pm h um de
    del le the on at von by cet cest mez utc gmt st nd rd th
""".split())
DATE_STRIP = "0123456789.,;:!?()[]/|-–—·•∙'’"
