package io.mlxcap.report;

import java.util.ArrayList;
import java.util.List;

/**
 * A report's content as a list of blocks, written once and rendered twice (HTML and Markdown), so
 * the two files cannot say different things.
 */
public final class Doc {
  /** What renders a document: one method per kind of block, so a renderer cannot forget one. */
  public interface Renderer {
    void heading(Heading h);

    void paragraph(Paragraph p);

    void table(Table t);

    void image(Image i);

    void code(Code c);

    void bullets(Bullets b);
  }

  /** One block of the report. */
  public sealed interface Block permits Heading, Paragraph, Table, Image, Code, Bullets {
    void renderTo(Renderer renderer);
  }

  /** A heading; level 1 is the title. */
  public record Heading(int level, String text) implements Block {
    @Override
    public void renderTo(Renderer r) {
      r.heading(this);
    }
  }

  /** A paragraph of text; {@code **bold**} and {@code `code`} are marked as in Markdown. */
  public record Paragraph(String text) implements Block {
    @Override
    public void renderTo(Renderer r) {
      r.paragraph(this);
    }
  }

  /** A table with a header row; cells are text marked as in a paragraph. */
  public record Table(List<String> header, List<List<String>> rows, String caption) implements Block {
    @Override
    public void renderTo(Renderer r) {
      r.table(this);
    }
  }

  /** A chart: a PNG file beside the report, embedded in the HTML. */
  public record Image(String file, byte[] png, String alt) implements Block {
    @Override
    public void renderTo(Renderer r) {
      r.image(this);
    }
  }

  /** Preformatted text, e.g. a command line. */
  public record Code(String text) implements Block {
    @Override
    public void renderTo(Renderer r) {
      r.code(this);
    }
  }

  /** A bulleted list. */
  public record Bullets(List<String> items) implements Block {
    @Override
    public void renderTo(Renderer r) {
      r.bullets(this);
    }
  }

  /** Renders every block in order. */
  public void renderTo(Renderer renderer) {
    blocks.forEach(b -> b.renderTo(renderer));
  }

  private final List<Block> blocks = new ArrayList<>();

  public Doc heading(int level, String text) {
    blocks.add(new Heading(level, text));
    return this;
  }

  public Doc paragraph(String text) {
    blocks.add(new Paragraph(text));
    return this;
  }

  public Doc table(List<String> header, List<List<String>> rows, String caption) {
    blocks.add(new Table(List.copyOf(header), rows.stream().map(List::copyOf).toList(), caption));
    return this;
  }

  public Doc image(String file, byte[] png, String alt) {
    blocks.add(new Image(file, png, alt));
    return this;
  }

  public Doc code(String text) {
    blocks.add(new Code(text));
    return this;
  }

  public Doc bullets(List<String> items) {
    blocks.add(new Bullets(List.copyOf(items)));
    return this;
  }

  public List<Block> blocks() {
    return List.copyOf(blocks);
  }
}
