package io.mlxcap.report;

import io.mlxcap.report.Doc.Bullets;
import io.mlxcap.report.Doc.Code;
import io.mlxcap.report.Doc.Heading;
import io.mlxcap.report.Doc.Image;
import io.mlxcap.report.Doc.Paragraph;
import io.mlxcap.report.Doc.Table;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Renders a {@link Doc} as Markdown (images as files beside it) or as one self-contained HTML page. */
public final class Render {
  private static final Pattern BOLD = Pattern.compile("\\*\\*(.+?)\\*\\*");
  private static final Pattern CODE = Pattern.compile("`([^`]+)`");

  private Render() {}

  /** Markdown: GitHub-flavoured tables; images refer to the PNG files written beside it. */
  public static String markdown(Doc doc) {
    StringBuilder md = new StringBuilder();
    doc.renderTo(new Doc.Renderer() {
      @Override
      public void heading(Heading h) {
        md.append("#".repeat(h.level())).append(' ').append(h.text()).append("\n\n");
      }

      @Override
      public void paragraph(Paragraph p) {
        md.append(p.text()).append("\n\n");
      }

      @Override
      public void table(Table t) {
        if (!t.caption().isEmpty()) {
          md.append(t.caption()).append("\n\n");
        }
        md.append(mdRow(t.header()));
        md.append(mdRow(t.header().stream().map(c -> "---").toList()));
        t.rows().forEach(r -> md.append(mdRow(r)));
        md.append('\n');
      }

      @Override
      public void image(Image i) {
        md.append("![").append(i.alt()).append("](").append(i.file()).append(")\n\n");
      }

      @Override
      public void code(Code c) {
        md.append("```\n").append(c.text()).append("\n```\n\n");
      }

      @Override
      public void bullets(Bullets b) {
        b.items().forEach(item -> md.append("- ").append(item).append('\n'));
        md.append('\n');
      }
    });
    return md.toString();
  }

  private static String mdRow(List<String> cells) {
    return "| " + String.join(" | ", cells.stream().map(c -> c.replace("|", "\\|")).toList()) + " |\n";
  }

  /** One HTML page: styles inline, charts embedded as data URIs, no script, nothing fetched. */
  public static String html(Doc doc, String title) {
    StringBuilder h = new StringBuilder();
    h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
        .append("<title>").append(escape(title)).append("</title>\n<style>\n").append(STYLE)
        .append("</style>\n</head>\n<body>\n<main>\n");
    doc.renderTo(new Doc.Renderer() {
      @Override
      public void heading(Heading x) {
        h.append("<h").append(x.level()).append('>').append(inline(x.text())).append("</h").append(x.level()).append(">\n");
      }

      @Override
      public void paragraph(Paragraph p) {
        h.append("<p>").append(inline(p.text())).append("</p>\n");
      }

      @Override
      public void table(Table t) {
        h.append("<div class=\"table\"><table>\n");
        if (!t.caption().isEmpty()) {
          h.append("<caption>").append(inline(t.caption())).append("</caption>\n");
        }
        h.append("<thead><tr>");
        t.header().forEach(c -> h.append("<th>").append(inline(c)).append("</th>"));
        h.append("</tr></thead>\n<tbody>\n");
        for (List<String> row : t.rows()) {
          h.append("<tr>");
          row.forEach(c -> h.append("<td>").append(inline(c)).append("</td>"));
          h.append("</tr>\n");
        }
        h.append("</tbody></table></div>\n");
      }

      @Override
      public void image(Image i) {
        h.append("<figure><img src=\"data:image/png;base64,").append(Base64.getEncoder().encodeToString(i.png()))
            .append("\" alt=\"").append(escape(i.alt())).append("\"><figcaption>").append(inline(i.alt()))
            .append("</figcaption></figure>\n");
      }

      @Override
      public void code(Code c) {
        h.append("<pre><code>").append(escape(c.text())).append("</code></pre>\n");
      }

      @Override
      public void bullets(Bullets b) {
        h.append("<ul>\n");
        b.items().forEach(item -> h.append("<li>").append(inline(item)).append("</li>\n"));
        h.append("</ul>\n");
      }
    });
    return h.append("</main>\n</body>\n</html>\n").toString();
  }

  /** Escapes {@code text} and turns {@code **bold**} and {@code `code`} into tags. */
  static String inline(String text) {
    String escaped = escape(text);
    Matcher code = CODE.matcher(escaped);
    escaped = code.replaceAll("<code>$1</code>");
    Matcher bold = BOLD.matcher(escaped);
    return bold.replaceAll("<strong>$1</strong>");
  }

  static String escape(String text) {
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }

  private static final String STYLE = """
      body { margin: 0; background: #f6f7f9; color: #1d2330; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
      main { max-width: 1080px; margin: 0 auto; padding: 24px 32px 64px; background: #fff; }
      h1 { font-size: 26px; margin: 8px 0 4px; }
      h2 { font-size: 20px; margin: 36px 0 8px; border-bottom: 1px solid #dde1e7; padding-bottom: 4px; }
      h3 { font-size: 16px; margin: 24px 0 6px; }
      code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 13px; background: #f0f2f5; padding: 1px 4px; border-radius: 3px; }
      pre { background: #f0f2f5; padding: 10px 12px; overflow-x: auto; border-radius: 4px; }
      pre code { background: none; padding: 0; }
      .table { overflow-x: auto; margin: 8px 0 16px; }
      table { border-collapse: collapse; font-size: 13.5px; }
      caption { text-align: left; padding: 4px 0; color: #4a5263; }
      th, td { border: 1px solid #dde1e7; padding: 4px 8px; text-align: left; vertical-align: top; }
      th { background: #eef1f5; }
      tbody tr:nth-child(even) { background: #fafbfc; }
      figure { margin: 16px 0 24px; }
      figure img { max-width: 100%; height: auto; border: 1px solid #dde1e7; }
      figcaption { color: #4a5263; font-size: 13.5px; margin-top: 4px; }
      """;
}
