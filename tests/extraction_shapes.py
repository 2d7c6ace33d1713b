"""Hand-written pages in the shapes on which the default extractor used to lose the main text.

Each shape reproduces one mechanism that made the old pruning throw the
article away (issue #18); ``SHAPES`` maps a name to ``(html, gold)``, where
``gold`` is the page's main text, one block per line. Used by
tests/test_main_content_shapes.py and benchmarks/extraction_quality.py.
The wording is invented; the markup follows what common CMSs and old
hand-made sites emit.
"""
from __future__ import annotations

SENTENCES = (
    "The committee met on Tuesday to review the budget for the coming year.",
    "Most members agreed that the library needs a new roof before winter.",
    "A local builder offered to do the work at cost if the town buys the materials.",
    "The mayor said she would put the proposal to a vote at the next meeting.",
    "Residents who want to speak on the matter can put their names down at the town hall.",
    "Last year the same roof leaked twice and damaged part of the map collection.",
)


def _comments(n: int) -> str:
    """A WordPress-style comment thread: long, and boilerplate for our purposes."""
    items = "".join(
        f'<li class="comment even thread-even depth-1" id="comment-{i}"><div class="comment-author vcard">'
        f'<cite class="fn">Reader {i}</cite> <span class="says">says:</span></div>'
        f'<div class="comment-meta commentmetadata">'
        f'<a href="#comment-{i}">May {i % 28 + 1}, 2009 at 10:{i % 60:02d} am</a></div>'
        f"<p>Thanks for writing this, reader {i} found it useful and will try the same thing next weekend.</p>"
        f"<p>One more thing: the second step took me longer than expected, but it worked in the end.</p>"
        f'<div class="reply"><a href="?replytocom={i}">Reply</a></div></li>' for i in range(n))
    return (f'<div id="comments"><h3 id="comments-title">{n} Responses to this post</h3>'
            f'<ol class="commentlist">{items}</ol></div>')


_NAV = ('<div id="header"><h1 id="blog-title"><a href="/">Small Steps</a></h1>'
        '<ul class="menu"><li><a href="/">Home</a></li><li><a href="/about">About</a></li>'
        '<li><a href="/archive">Archive</a></li></ul></div>')

# 1. A short post in a theme whose post class says "comments-open" (Sandbox and
# its many children): resiliparse's comment pruning takes the whole post with
# the thread, and the page came out as its title or empty.
SHORT_POST_COMMENTS_OPEN = (
    "<html><head><title>prepping for a new week. | Small Steps</title></head><body>" + _NAV +
    '<div id="container"><div id="content">'
    '<div id="post-412" class="hentry p1 post publish author-jen category-family untagged y2009 m05 d17 h21 '
    'comments-open pings-open">'
    '<h2 class="entry-title">prepping for a new week.</h2>'
    '<div class="entry-content">laundry is done, the lunches are packed and the kids are finally asleep.<br/>'
    "tomorrow we start the new schedule at work, so the alarm is set for six and the coffee maker is ready.<br/>"
    "wish me luck, and I will tell you on Friday how the first week went.</div>"
    '<div class="entry-meta">Posted by jen in family | <a href="#comments">12 comments</a></div>'
    "</div>" + _comments(12) + "</div></div></body></html>"
)
SHORT_POST_COMMENTS_OPEN_GOLD = (
    "prepping for a new week.\n"
    "laundry is done, the lunches are packed and the kids are finally asleep.\n"
    "tomorrow we start the new schedule at work, so the alarm is set for six and the coffee maker is ready.\n"
    "wish me luck, and I will tell you on Friday how the first week went."
)

# 2. A drug monograph on an old ASP.NET site: the whole page sits in one
# <form>, the text in table cells and a definition list, no <h1>, no <p>.
# The "form" block selector pruned everything but the title cell.
_DRUG_SECTIONS = (
    ("Indications", "Cardizem (diltiazem hydrochloride) is indicated for the management of chronic stable angina "
                    "and angina due to coronary artery spasm."),
    ("Contraindications", "Diltiazem is contraindicated in patients with sick sinus syndrome except in the presence "
                          "of a functioning ventricular pacemaker, and in patients with second or third degree "
                          "AV block."),
    ("Precautions", "Diltiazem prolongs AV node refractory periods without significantly prolonging sinus node "
                    "recovery time, except in patients with sick sinus syndrome."),
    ("Adverse Reactions", "The most common adverse events in clinical trials were edema, headache, dizziness, "
                          "asthenia, first degree AV block and bradycardia."),
    ("Overdosage", "The oral LD50s in mice and rats range from 415 to 740 mg/kg and from 560 to 810 mg/kg, "
                   "respectively."),
    ("Dosage", "Starting with 30 mg four times daily, before meals and at bedtime, dosage should be increased "
               "gradually at one to two day intervals until the optimum response is obtained."),
)
ASPNET_DRUG_PAGE = (
    "<html><head><title>RxMed: Pharmaceutical Information - CARDIZEM</title></head><body>"
    '<form name="aspnetForm" method="post" action="monograph.aspx?id=412" id="aspnetForm">'
    '<input type="hidden" name="__VIEWSTATE" id="__VIEWSTATE" value="dDwtMTI3OTMzNDM4NDs7Pg==" />'
    '<table width="100%" cellpadding="0" cellspacing="0"><tr><td class="logo"><a href="/">RxMed</a></td>'
    '<td><a href="/drugs">Drugs</a> | <a href="/conditions">Conditions</a></td></tr></table>'
    '<table width="760"><tr><td class="title"><b><font size="4">CARDIZEM</font></b></td></tr>'
    '<tr><td><font face="Arial" size="2"><b>Diltiazem Hydrochloride</b><br/>Calcium Channel Blocker<br/>'
    "Tablets 30 mg, 60 mg, 90 mg and 120 mg</font></td></tr>"
    '<tr><td><dl class="monograph">'
    + "".join(f"<dt><b>{name}</b></dt><dd>{text}</dd>" for name, text in _DRUG_SECTIONS) +
    "</dl></td></tr>"
    '<tr><td><table border="1"><tr><th>Reaction</th><th>Diltiazem (n=607)</th><th>Placebo (n=301)</th></tr>'
    "<tr><td>Edema</td><td>5.4%</td><td>2.6%</td></tr><tr><td>Headache</td><td>4.5%</td><td>2.3%</td></tr>"
    "<tr><td>Dizziness</td><td>3.4%</td><td>2.0%</td></tr></table></td></tr></table>"
    '<table><tr><td class="copy">© 2009 RxMed. <a href="/terms">Terms of use</a></td></tr></table>'
    "</form></body></html>"
)
ASPNET_DRUG_PAGE_GOLD = (
    "CARDIZEM\nDiltiazem Hydrochloride\nCalcium Channel Blocker\nTablets 30 mg, 60 mg, 90 mg and 120 mg\n"
    + "\n".join(f"{name}\n{text}" for name, text in _DRUG_SECTIONS) +
    "\nReaction Diltiazem (n=607) Placebo (n=301)\nEdema 5.4% 2.6%\nHeadache 4.5% 2.3%\nDizziness 3.4% 2.0%"
)

# 3. A reference page whose text sits in definition-list and table blocks
# inside a wrapper named like post meta ("metadata-table"); no run of three
# sibling paragraphs, so the content guard did not apply.
_TERMS = (
    ("Aperture", "The opening in a lens through which light passes, measured as an f-number"),
    ("Bokeh", "The quality of the out-of-focus areas of an image, shaped by the lens design"),
    ("Exposure", "The amount of light that reaches the sensor, set by aperture, shutter speed and ISO"),
    ("Focal length", "The distance from the lens to the sensor when the subject is in focus, in millimetres"),
    ("ISO", "The sensitivity of the sensor to light; a higher value brightens the image and adds noise"),
    ("Shutter speed", "How long the shutter stays open, from thousandths of a second to many seconds"),
    ("White balance", "The setting that makes white objects look white under different kinds of light"),
)
GLOSSARY_IN_META_WRAPPER = (
    "<html><head><title>Photography glossary</title></head><body>"
    '<div class="topbar"><a href="/">Home</a> <a href="/guides">Guides</a></div>'
    '<div class="page-metadata-table">'
    "<h2>Photography terms explained</h2>"
    "<dl>" + "".join(f"<dt>{term}</dt><dd>{text}</dd>" for term, text in _TERMS) + "</dl>"
    "<table><tr><th>Setting</th><th>Bright day</th><th>Indoors</th></tr>"
    "<tr><td>Aperture</td><td>f/11</td><td>f/2.8</td></tr><tr><td>Shutter</td><td>1/500 s</td><td>1/60 s</td></tr>"
    "</table></div>"
    '<div class="footer"><a href="/privacy">Privacy</a> <a href="/contact">Contact</a></div></body></html>'
)
GLOSSARY_IN_META_WRAPPER_GOLD = (
    "Photography terms explained\n" + "\n".join(f"{term}\n{text}" for term, text in _TERMS) +
    "\nSetting Bright day Indoors\nAperture f/11 f/2.8\nShutter 1/500 s 1/60 s"
)

# 4. The main text outside <article>/<main>, in plain <div> blocks inside a
# wrapper whose class holds "footer" (a layout with a sticky footer); the
# <h1> is the site name in the header, so the guard did not apply either.
DIV_TEXT_IN_FOOTER_LAYOUT = (
    "<html><head><title>Library roof</title></head><body>"
    '<div id="masthead"><h1>Riverton Gazette</h1><div class="nav"><a href="/">Home</a> <a href="/news">News</a>'
    "</div></div>"
    '<div class="layout-with-sticky-footer"><div class="story">'
    '<div class="headline">Town weighs new roof for the library</div>'
    + "".join(f'<div class="para">{s}</div>' for s in SENTENCES) +
    "</div>"
    '<aside><article class="teaser"><h2><a href="/other">Bridge repairs start in June</a></h2>'
    "<p>Short teaser.</p></article></aside></div>"
    '<div id="bottom">© Riverton Gazette</div></body></html>'
)
DIV_TEXT_IN_FOOTER_LAYOUT_GOLD = "Town weighs new roof for the library\n" + "\n".join(SENTENCES)

# 5. A Chinese news page: a "related articles" box (相关文章) comes first in
# the source, and Chinese sentences end in "。", which the related-block rule
# did not count as the end of a sentence, so every later line went with it.
_ZH = ("今年冬天北京下了第一场雪，很多市民走上街头拍照留念。",
       "气象台表示，未来一周气温将继续下降，最低气温可能达到零下十度，请大家注意保暖。",
       "交通部门提醒司机朋友雪天路滑，谨慎驾驶，尽量选择公共交通出行。",
       "部分学校已经通知学生明天推迟一个小时到校。")
CHINESE_RELATED_FIRST = (
    '<html><head><meta charset="utf-8"><title>北京迎来第一场雪</title></head><body>'
    '<div id="left"><h3>相关文章</h3><ul><li><a href="/1">上海天气预报</a></li><li><a href="/2">冬季出行指南</a></li>'
    "</ul></div>"
    '<div id="content"><h2>北京迎来今年第一场雪</h2>' + "".join(f"<p>{s}</p>" for s in _ZH) + "</div></body></html>"
)
CHINESE_RELATED_FIRST_GOLD = "北京迎来今年第一场雪\n" + "\n".join(_ZH)

# 6. A post whose text comes before the page's only <h1>, a widget heading
# in an unlabelled right-hand column: the rule "drop what precedes an early
# <h1>" (meant for breadcrumbs) dropped the post.
_WIDGET_LINKS = "".join(f'<li><a href="/u/{i}">Reader {i}</a> on Planting garlic in October: tried it last '
                        f'year and it worked well</li>' for i in range(40))
POST_BEFORE_WIDGET_H1 = (
    "<html><head><title>Garden notes</title></head><body><table><tr>"
    '<td valign="top"><h2>Garden notes</h2><h3>Planting garlic in October</h3>'
    "<p>Garlic goes in the ground about four weeks before the first hard frost.</p>"
    "<p>Break the bulbs into cloves the day you plant, and keep the biggest ones for planting.</p>"
    "<p>Cover the bed with straw after the ground freezes, then wait for spring.</p></td>"
    '<td valign="top" width="200"><h1>Recent comments</h1><ul>' + _WIDGET_LINKS + "</ul></td>"
    "</tr></table>" + _comments(8) + "</body></html>"
)
POST_BEFORE_WIDGET_H1_GOLD = (
    "Garden notes\nPlanting garlic in October\n"
    "Garlic goes in the ground about four weeks before the first hard frost.\n"
    "Break the bulbs into cloves the day you plant, and keep the biggest ones for planting.\n"
    "Cover the bed with straw after the ground freezes, then wait for spring."
)

# 7. A Japanese blog post written the way many are: one short sentence per
# line. Japanese full stops ("。", "！") did not count as sentence ends, so
# every line after the one long line was trimmed as a trailing byline.
_JA = ("今日は朝から雨でした。", "駅まで歩いて十分かかりました。", "電車はとても混んでいました！",
       "会社に着いたら、もう九時でした。", "お昼は同僚と近くのそば屋に行きました。", "天ぷらそばがおいしかったです。",
       "午後は会議が三つありました。", "帰りには雨がやんでいました。", "明日は晴れるといいなと思います。",
       "おやすみなさい。")
_JA_LEAD = ("先週から新しいプロジェクトが始まって、毎日とても忙しいのですが、"
            "今日は少しだけ時間ができたので日記を書きます。")
JAPANESE_SHORT_LINES = (
    '<html><head><meta charset="utf-8"><title>雨の月曜日 | 毎日日記</title></head><body>'
    '<div id="header"><a href="/">毎日日記</a></div>'
    '<div class="skin-entry"><h2 class="skin-entryTitle">雨の月曜日</h2>'
    '<div class="skin-entryBody">' + _JA_LEAD + "<br>" + "<br>".join(_JA) + "</div></div>"
    '<div class="skin-footer"><a href="/profile">プロフィール</a></div></body></html>'
)
JAPANESE_SHORT_LINES_GOLD = "雨の月曜日\n" + _JA_LEAD + "\n" + "\n".join(_JA)

SHAPES: dict[str, tuple[str, str]] = {
    "short post, comments-open class": (SHORT_POST_COMMENTS_OPEN, SHORT_POST_COMMENTS_OPEN_GOLD),
    "drug page in an ASP.NET form": (ASPNET_DRUG_PAGE, ASPNET_DRUG_PAGE_GOLD),
    "glossary in a meta-named wrapper": (GLOSSARY_IN_META_WRAPPER, GLOSSARY_IN_META_WRAPPER_GOLD),
    "div text in a footer-named layout": (DIV_TEXT_IN_FOOTER_LAYOUT, DIV_TEXT_IN_FOOTER_LAYOUT_GOLD),
    "Chinese, related box first": (CHINESE_RELATED_FIRST, CHINESE_RELATED_FIRST_GOLD),
    "post before a widget <h1>": (POST_BEFORE_WIDGET_H1, POST_BEFORE_WIDGET_H1_GOLD),
    "Japanese, one sentence a line": (JAPANESE_SHORT_LINES, JAPANESE_SHORT_LINES_GOLD),
}
