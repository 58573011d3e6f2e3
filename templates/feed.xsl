<?xml version="1.0" encoding="UTF-8"?>
<!-- Shows an Atom or RSS feed as a readable page when it is opened in a browser, in the site's
     language, with dates written as the site's pages write them. (Rendered by Jinja at build time.) -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom">
  <xsl:output method="html" encoding="UTF-8" indent="yes"/>
  <xsl:template match="/">
    <html lang="{{ site.language }}">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="atom:feed/atom:title|rss/channel/title"/> ({{ words.t("xsl.kind") }})</title>
        <meta name="color-scheme" content="light dark"/>
        <style>
          body { margin: 0 auto; max-width: 46rem; padding: 1rem 1.25rem; font: 17px/1.55 system-ui, sans-serif; color: #1d2430; background: #ffffff; }
          .note { background: #eef4fb; border-radius: .5rem; padding: .75rem 1rem; }
          .date { color: #5b6575; font-size: .9rem; }
          a { color: {{ site.brand_accent }}; }
          footer { margin-top: 2rem; color: #5b6575; font-size: .9rem; }
          @media (prefers-color-scheme: dark) {
            body { color: #e6e9ef; background: #14171c; }
            .note { background: #1f2630; }
            .date, footer { color: #a3acba; }
            a { color: {{ site.brand_accent_dark }}; }
          }
        </style>
      </head>
      <body>
        <p class="note">{{ words.t("xsl.note") }}</p>
        <h1><xsl:value-of select="atom:feed/atom:title|rss/channel/title"/></h1>
        <p><a>
          <xsl:attribute name="href"><xsl:value-of select="atom:feed/atom:link[@rel='alternate']/@href|rss/channel/link"/></xsl:attribute>
          {{ words.t("xsl.visit") }}</a></p>
        <xsl:for-each select="atom:feed/atom:entry">
          <h2><a><xsl:attribute name="href"><xsl:value-of select="atom:link/@href"/></xsl:attribute>
            <xsl:value-of select="atom:title"/></a></h2>
          <p class="date"><xsl:call-template name="long-date"><xsl:with-param name="iso" select="substring(atom:published, 1, 10)"/></xsl:call-template></p>
          <p><xsl:value-of select="atom:summary"/></p>
        </xsl:for-each>
        <xsl:for-each select="rss/channel/item">
          <h2><a><xsl:attribute name="href"><xsl:value-of select="link"/></xsl:attribute>
            <xsl:value-of select="title"/></a></h2>
          <p class="date"><xsl:call-template name="long-date"><xsl:with-param name="iso"><xsl:call-template name="iso-date"><xsl:with-param name="rfc822" select="pubDate"/></xsl:call-template></xsl:with-param></xsl:call-template></p>
          <div class="description"><xsl:value-of select="description" disable-output-escaping="yes"/></div>
        </xsl:for-each>
{% if site.brand_footer_text %}
        <footer><p>{% if site.brand_footer_link %}<a href="{{ site.brand_footer_link | e }}">{{ site.brand_footer_text | e }}</a>{% else %}{{ site.brand_footer_text | e }}{% endif %}</p></footer>
{% endif %}
      </body>
    </html>
  </xsl:template>
  <!-- "Thu, 26 Aug 2021 00:00:00 +0000" → "2021-08-26", as the Atom pages show dates -->
  <xsl:template name="iso-date">
    <xsl:param name="rfc822"/>
    <xsl:variable name="month" select="(string-length(substring-before('JanFebMarAprMayJunJulAugSepOctNovDec', substring($rfc822, 9, 3))) div 3) + 1"/>
    <xsl:value-of select="concat(substring($rfc822, 13, 4), '-', format-number($month, '00'), '-', substring($rfc822, 6, 2))"/>
  </xsl:template>
  <!-- "2021-08-26" → "26 August 2021", as the site's pages write dates in its language -->
  <xsl:template name="long-date">
    <xsl:param name="iso"/>
    <xsl:variable name="m" select="number(substring($iso, 6, 2))"/>
{% for kind, text in date_parts %}
{% if kind == "d" %}
    <xsl:value-of select="number(substring($iso, 9, 2))"/>
{% elif kind == "y" %}
    <xsl:value-of select="substring($iso, 1, 4)"/>
{% elif kind == "m" %}
    <xsl:choose>
{% for name in month_names %}
      <xsl:when test="$m = {{ loop.index }}">{{ name }}</xsl:when>
{% endfor %}
    </xsl:choose>
{% else %}
    <xsl:text>{{ text }}</xsl:text>
{% endif %}
{% endfor %}
  </xsl:template>
</xsl:stylesheet>
