package io.mlxcap.workload;

import java.time.Duration;
import java.util.Locale;
import org.apache.commons.math3.distribution.ExponentialDistribution;
import org.apache.commons.math3.random.RandomGenerator;

/** When requests arrive: each call returns the next arrival time, in nanoseconds since the start. */
public interface ArrivalProcess {

  /** Returns the time of the next arrival, never earlier than the last one returned. */
  long next();

  /** The kinds of arrival process, as the command line names them. */
  enum Kind {
    /** A constant rate, exponential gaps. */
    POISSON,
    /** Bursts: on periods at the rate, silent off periods, both of exponential length (a two-state MMPP). */
    ON_OFF,
    /** A rate that follows the day: mean × (1 + amplitude × cos(2π (hour − peak hour) / 24)). */
    DIURNAL;

    /** The name on the command line, e.g. {@code on-off}. */
    public String cliName() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
  }

  /** Poisson arrivals at {@code perSecond}. */
  static ArrivalProcess poisson(double perSecond, RandomGenerator random) {
    ExponentialDistribution gap = new ExponentialDistribution(random, 1e9 / perSecond);
    return new ArrivalProcess() {
      private double now;

      @Override
      public long next() {
        now += gap.sample();
        return (long) now;
      }
    };
  }

  /** Poisson arrivals at {@code perSecond} during on periods of mean {@code on}, none during off periods of mean {@code off}. */
  static ArrivalProcess onOff(double perSecond, Duration on, Duration off, RandomGenerator random) {
    ExponentialDistribution gap = new ExponentialDistribution(random, 1e9 / perSecond);
    ExponentialDistribution onLength = new ExponentialDistribution(random, on.toNanos());
    ExponentialDistribution offLength = new ExponentialDistribution(random, off.toNanos());
    return new ArrivalProcess() {
      private double now;
      private double onEnds = onLength.sample();

      @Override
      public long next() {
        double candidate = now + gap.sample();
        while (candidate > onEnds) {
          // The burst ended first: skip the off period and start a new burst, memoryless.
          double nextOn = onEnds + offLength.sample();
          onEnds = nextOn + onLength.sample();
          candidate = nextOn + gap.sample();
        }
        now = candidate;
        return (long) now;
      }
    };
  }

  /**
   * Arrivals whose rate follows the day, mean {@code perSecond}, highest at {@code peakHour}
   * (trace time 0 is midnight), by thinning a Poisson process at the peak rate.
   */
  static ArrivalProcess diurnal(double perSecond, double amplitude, double peakHour, RandomGenerator random) {
    double peak = perSecond * (1 + amplitude);
    ExponentialDistribution gap = new ExponentialDistribution(random, 1e9 / peak);
    double day = 86_400e9;
    return new ArrivalProcess() {
      private double now;

      @Override
      public long next() {
        while (true) {
          now += gap.sample();
          double hour = (now % day) / 3_600e9;
          double rate = perSecond * (1 + amplitude * Math.cos(2 * Math.PI * (hour - peakHour) / 24));
          if (random.nextDouble() * peak < rate) {
            return (long) now;
          }
        }
      }
    };
  }
}
