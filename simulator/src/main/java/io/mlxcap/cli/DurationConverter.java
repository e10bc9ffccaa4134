package io.mlxcap.cli;

import io.mlxcap.Durations;
import io.mlxcap.InvalidInputException;
import java.time.Duration;
import picocli.CommandLine;

/** Lets picocli read a duration option with {@link Durations#parse}, so a bad value is a usage error (exit 2). */
final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
  @Override
  public Duration convert(String text) {
    try {
      return Durations.parse(text);
    } catch (InvalidInputException e) {
      throw new CommandLine.TypeConversionException(e.getMessage());
    }
  }
}
